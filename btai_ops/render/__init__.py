"""`btai render`: deployment manifests (Kubernetes, Docker, Compose, monitoring) from configs/.

Only `command` is imported when the CLI starts; the rest (pydantic, yaml, kubernetes-validate,
the app) loads when a render runs.
"""
