"""``polc serve``: the policies as an HTTP service and an applicant page (Starlette, uvicorn)."""
