"""Background jobs' bookkeeping: what failed for good, where operators see it.

The jobs themselves live next to the code they serve (payments/tasks.py, fundings/tasks.py)
and run on huey (README "Background jobs"); queue.py is the queue of the embedded default.
This app knows no other app of the project.
"""
