package jobstore

import (
	"encoding/binary"
	"fmt"
)

// A small LZ77 codec with a preset dictionary, for documents.
//
// Job records of one center repeat each other: the same users, accounts,
// directories, submit lines and commands, with a few digits changed. A
// document alone has little to compress (it holds each value once), but
// against a dictionary of documents of the same store most of its bytes
// are copies. The dictionary is learned from a store's first documents
// (dict.go); this file only encodes and decodes.
//
// The stream is a sequence of operations, each a uvarint tag:
//
//	tag = n<<1     n literal bytes follow
//	tag = n<<1 | 1 copy n bytes (n >= lzMinMatch) from distance d, a uvarint
//	               that follows: d bytes back in dictionary || output
//
// Copies may overlap their own output (a run), and may start in the
// dictionary and continue in the output.

// lzMinMatch is the shortest copy: shorter ones cost as much as literals.
const lzMinMatch = 4

// lzHashBits sizes the hash tables of the encoder.
const (
	lzHashBits = 15
	lzDocBits  = 10
)

func lzHash(b []byte, bits uint) uint32 {
	return (binary.LittleEndian.Uint32(b) * 0x9E3779B1) >> (32 - bits)
}

// lzDict is a dictionary ready for encoding: its bytes and, per hash of
// four bytes, the last position in it that starts with them (plus one; 0
// means none).
type lzDict struct {
	data  []byte
	table []int32
}

func newLZDict(data []byte) *lzDict {
	d := &lzDict{data: data, table: make([]int32, 1<<lzHashBits)}
	for i := 0; i+lzMinMatch <= len(data); i++ {
		d.table[lzHash(data[i:], lzHashBits)] = int32(i + 1)
	}
	return d
}

// lzEncoder compresses against one dictionary; it is not safe for
// concurrent use.
type lzEncoder struct {
	d *lzDict
	// own maps a hash to the last position in the input (plus one), valid
	// for the input whose generation it carries.
	own [1 << lzDocBits]struct{ pos, gen int32 }
	gen int32
}

// matchLen returns how many bytes a and b share at their start.
func matchLen(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// encode appends the compressed src to dst.
func (e *lzEncoder) encode(dst, src []byte) []byte {
	e.gen++
	dict := e.d.data
	lit := 0 // start of the pending literals
	flush := func(end int) {
		if end > lit {
			dst = binary.AppendUvarint(dst, uint64(end-lit)<<1)
			dst = append(dst, src[lit:end]...)
		}
	}
	i := 0
	for i+lzMinMatch <= len(src) {
		bestLen, bestDist := 0, 0
		if p := e.d.table[lzHash(src[i:], lzHashBits)]; p > 0 {
			if n := matchLen(dict[p-1:], src[i:]); n >= lzMinMatch {
				bestLen, bestDist = n, len(dict)-int(p-1)+i
			}
		}
		h := lzHash(src[i:], lzDocBits)
		if o := e.own[h]; o.gen == e.gen && o.pos > 0 {
			if n := matchLen(src[o.pos-1:], src[i:]); n > bestLen {
				bestLen, bestDist = n, i-int(o.pos-1)
			}
		}
		e.own[h] = struct{ pos, gen int32 }{int32(i + 1), e.gen}
		if bestLen < lzMinMatch {
			i++
			continue
		}
		flush(i)
		dst = binary.AppendUvarint(dst, uint64(bestLen)<<1|1)
		dst = binary.AppendUvarint(dst, uint64(bestDist))
		// Index the copied positions too, so that later repeats find them.
		for j := i + 1; j < i+bestLen && j+lzMinMatch <= len(src); j++ {
			e.own[lzHash(src[j:], lzDocBits)] = struct{ pos, gen int32 }{int32(j + 1), e.gen}
		}
		i += bestLen
		lit = i
	}
	flush(len(src))
	return dst
}

// lzDecode appends the decompression of src against dict to dst[:0] and
// returns it. It never reads or writes out of bounds, whatever src holds,
// and output beyond max bytes is an error.
func lzDecode(dst, dict, src []byte, max int) ([]byte, error) {
	out := dst[:0]
	for len(src) > 0 {
		tag, n := binary.Uvarint(src)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad compressed tag", errCorrupt)
		}
		src = src[n:]
		size := tag >> 1
		if size > uint64(max-len(out)) {
			return nil, fmt.Errorf("%w: compressed document longer than %d bytes", errCorrupt, max)
		}
		if tag&1 == 0 {
			if size > uint64(len(src)) {
				return nil, fmt.Errorf("%w: truncated literal", errCorrupt)
			}
			out = append(out, src[:size]...)
			src = src[size:]
			continue
		}
		dist, n := binary.Uvarint(src)
		if n <= 0 || dist == 0 || dist > uint64(len(dict)+len(out)) {
			return nil, fmt.Errorf("%w: bad copy distance", errCorrupt)
		}
		src = src[n:]
		// Position in dictionary || output; a copy longer than what
		// precedes it in the output repeats it (a run), piece by piece.
		p, left := len(dict)+len(out)-int(dist), int(size)
		for left > 0 {
			var k int
			if p < len(dict) {
				k = min(left, len(dict)-p)
				out = append(out, dict[p:p+k]...)
			} else {
				q := p - len(dict)
				k = min(left, len(out)-q)
				out = append(out, out[q:q+k]...)
			}
			p, left = p+k, left-k
		}
	}
	return out, nil
}
