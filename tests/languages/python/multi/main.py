from mathx import gcd, lcm

print("gcd 12 18 =", gcd(12, 18))
print("lcm 4 6 =", lcm(4, 6))
