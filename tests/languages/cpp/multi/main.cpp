#include <iostream>
#include "mathx.hpp"
int main() {
    std::cout << "gcd 12 18 = " << mathx::gcd(12, 18) << "\nlcm 4 6 = " << mathx::lcm(4, 6) << "\n";
}
