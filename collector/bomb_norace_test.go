//go:build !race

package collector

// bombSize is the length of the generated over-long lines: 1 GiB.
const bombSize = 1 << 30
