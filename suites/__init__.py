"""One subpackage per application domain, each on the shared blocks of convsuite.common."""
