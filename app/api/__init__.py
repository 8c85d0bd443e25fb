"""HTTP routers, one module per resource; `ROUTERS` is what `create_app` mounts."""
