import sys

tokens = sys.stdin.read().split()
n = int(tokens[0])
values = [int(x) for x in tokens[1:1 + n]]
print("sum", sum(values))
print("max", max(values))
