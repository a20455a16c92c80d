"""Audio in and out. The only package that imports sounddevice (lazily)."""
