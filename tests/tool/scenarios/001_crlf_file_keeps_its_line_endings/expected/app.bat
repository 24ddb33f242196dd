@echo off
echo uno
echo two
echo three
