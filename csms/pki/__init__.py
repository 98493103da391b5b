"""Station certificates: CSR checks, the certificate authority interface, the built-in CA."""
