"""Gettext catalogues (zh_CN first, en second) and the per-update locale."""
