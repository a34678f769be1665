"""lib/measures"""
