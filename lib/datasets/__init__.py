"""lib/datasets"""
