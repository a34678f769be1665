"""lib/run"""
