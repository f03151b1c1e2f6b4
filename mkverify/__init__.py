"""mkverify: a verifier for the lifecycles of Linux kernel objects."""
__version__ = "0.1.0"
