#include <iostream>
#include <map>
#include <thread>
#include <unordered_map>
#include <vector>
int main() {
    constexpr long N = 2000000, T = 4;
    std::vector<long> part(T);
    std::vector<std::thread> th;
    for (long t = 0; t < T; ++t)
        th.emplace_back([t, &part] {
            long s = 0;
            for (long i = t * (N / T) + 1; i <= (t + 1) * (N / T); ++i) s += i % 1000;
            part[t] = s;
        });
    long sum = 0;
    for (long t = 0; t < T; ++t) { th[t].join(); sum += part[t]; }
    std::unordered_map<int, int> count;
    for (long i = 0; i < 100000; ++i) ++count[static_cast<int>(i * 7919 % 1000)];
    std::map<int, int> sorted(count.begin(), count.end());
    std::cout << "sum " << sum << "\nkeys " << sorted.size() << "\nzero " << sorted[0] << "\n";
}
