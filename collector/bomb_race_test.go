//go:build race

package collector

// bombSize is the length of the generated over-long lines: 256 MiB under
// the race detector, which slows decompression about tenfold.
const bombSize = 256 << 20
