package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	in := bufio.NewReader(os.Stdin)
	var n int
	if _, err := fmt.Fscan(in, &n); err != nil {
		os.Exit(1)
	}
	var sum, max int64
	for i := 0; i < n; i++ {
		var x int64
		if _, err := fmt.Fscan(in, &x); err != nil {
			os.Exit(1)
		}
		sum += x
		if i == 0 || x > max {
			max = x
		}
	}
	fmt.Printf("sum %d\nmax %d\n", sum, max)
}
