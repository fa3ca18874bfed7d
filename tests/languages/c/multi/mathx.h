#pragma once
long gcd(long a, long b);
long lcm(long a, long b);
