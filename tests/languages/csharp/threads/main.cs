using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
class Program {
    static void Main() {
        const long N = 2000000, T = 4;
        var part = new long[T];
        var threads = new List<Thread>();
        for (long t = 0; t < T; t++) {
            long k = t;
            var th = new Thread(() => {
                long s = 0;
                for (long i = k * (N / T) + 1; i <= (k + 1) * (N / T); i++) s += i % 1000;
                part[k] = s;
            });
            th.Start();
            threads.Add(th);
        }
        foreach (var th in threads) th.Join();
        var count = new Dictionary<int, int>();
        for (long i = 0; i < 100000; i++) {
            int key = (int)(i * 7919 % 1000);
            count[key] = count.TryGetValue(key, out var c) ? c + 1 : 1;
        }
        var sorted = new SortedDictionary<int, int>(count);
        Console.WriteLine("sum " + part.Sum());
        Console.WriteLine("keys " + sorted.Count);
        Console.WriteLine("zero " + sorted[0]);
    }
}
