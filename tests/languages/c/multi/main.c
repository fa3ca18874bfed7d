#include <stdio.h>
#include "mathx.h"
int main(void) { printf("gcd 12 18 = %ld\nlcm 4 6 = %ld\n", gcd(12, 18), lcm(4, 6)); return 0; }
