// Package mathx holds the helpers of the multi-package test program.
package mathx

// Gcd is the greatest common divisor.
func Gcd(a, b int64) int64 {
	if b == 0 {
		return a
	}
	return Gcd(b, a%b)
}

// Lcm is the least common multiple.
func Lcm(a, b int64) int64 { return a / Gcd(a, b) * b }
