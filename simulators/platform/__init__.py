"""A fake T/CEC 102 monitoring platform that checks what a CSMS pushes, and a query client."""
