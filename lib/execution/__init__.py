"""lib/execution"""
