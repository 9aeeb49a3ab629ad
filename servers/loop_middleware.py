"""The article's two routes (``servers/loop_article.py``) behind a pass-through middleware.

``@app.middleware("http")`` wraps the app in Starlette's ``BaseHTTPMiddleware``. This one
does nothing but ``return await call_next(request)``, the shape of countless logging,
timing and auth middlewares. Between the route and the socket it puts a task and a
memory stream (``starlette/middleware/base.py``, ``BaseHTTPMiddleware.__call__``), and
that changes what the blocking generator does to delivery.

    uvicorn servers.loop_middleware:app --port 8000
    curl -N 'http://127.0.0.1:8000/stream?n=5&gap=0.5'
    curl -N 'http://127.0.0.1:8000/stream-sleep0?n=5&gap=0.5'

Introduced in notebooks/01_event_loop.ipynb.
"""

from fastapi import FastAPI, Request

from servers.loop_article import router

app = FastAPI(title="loop: the article's pattern behind a pass-through middleware")
app.include_router(router)


@app.middleware("http")
async def pass_through(request: Request, call_next):
    return await call_next(request)
