#include <algorithm>
#include <iostream>
#include <numeric>
#include <vector>
int main() {
    int n;
    std::cin >> n;
    std::vector<long> v(n);
    for (auto& x : v) std::cin >> x;
    std::cout << "sum " << std::accumulate(v.begin(), v.end(), 0L) << "\nmax "
              << *std::max_element(v.begin(), v.end()) << "\n";
}
