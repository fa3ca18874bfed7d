package main

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

func main() {
	const n, t = 2000000, 4
	part := make([]int64, t)
	var wg sync.WaitGroup
	for k := int64(0); k < t; k++ {
		wg.Add(1)
		go func(k int64) {
			defer wg.Done()
			// A timer starts the runtime's I/O poller (pipe2 before Go 1.21, eventfd2 after).
			time.Sleep(time.Millisecond)
			var s int64
			for i := k*(n/t) + 1; i <= (k+1)*(n/t); i++ {
				s += i % 1000
			}
			part[k] = s
		}(k)
	}
	wg.Wait()
	var sum int64
	for _, s := range part {
		sum += s
	}
	count := map[int]int{}
	for i := 0; i < 100000; i++ {
		count[i*7919%1000]++
	}
	keys := make([]int, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	fmt.Printf("sum %d\nkeys %d\nzero %d\n", sum, len(keys), count[keys[0]])
}
