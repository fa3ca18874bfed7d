def gcd(a, b):
    return gcd(b, a % b) if b else a


def lcm(a, b):
    return a // gcd(a, b) * b
