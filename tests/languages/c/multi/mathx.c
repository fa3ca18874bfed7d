#include "mathx.h"
long gcd(long a, long b) { return b ? gcd(b, a % b) : a; }
long lcm(long a, long b) { return a / gcd(a, b) * b; }
