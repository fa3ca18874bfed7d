import collections
import threading

N, T = 2000000, 4
part = [0] * T


def work(t):
    part[t] = sum(i % 1000 for i in range(t * (N // T) + 1, (t + 1) * (N // T) + 1))


threads = [threading.Thread(target=work, args=(t,)) for t in range(T)]
for th in threads:
    th.start()
for th in threads:
    th.join()
count = collections.Counter(i * 7919 % 1000 for i in range(100000))
print("sum", sum(part))
print("keys", len(count))
print("zero", count[0])
