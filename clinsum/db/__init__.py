"""The database's two roles: an owner that runs migrations, and the application's role.

The owner owns every table and runs `migrate` (and the test runner's create/flush/destroy). The
application connects as a role that is neither owner nor superuser: it may read and write the
clinical tables, and only SELECT and INSERT the audit trail and the retention receipts, so no
bug or stolen app credential can rewrite, cut or switch off the evidence (roles.py).
"""
