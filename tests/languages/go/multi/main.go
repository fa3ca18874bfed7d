package main

import (
	"fmt"

	"multi/mathx"
)

func main() {
	fmt.Printf("gcd 12 18 = %d\nlcm 4 6 = %d\n", mathx.Gcd(12, 18), mathx.Lcm(4, 6))
}
