"""ISO 15118 Plug & Charge plumbing (2.0.1 M06, C07): the CSMS relays EV certificate
installation and OCSP checks to a configurable certificate provider and answers the station."""
