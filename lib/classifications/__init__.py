"""lib/classifications"""
