package jobstore

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

// Blocks (schema version 3).
//
// A batch is stored as one row of the blocks table per blockMaxRecords
// records, not one row per record: a B-tree insert per record is what
// bounded the store's import rate. A block has two parts:
//
//   - keys: per record, 16 bytes: the fingerprint of its run's key
//     (keyHash) and of its document (docHash), little endian. Scan reads
//     the keys of every block first to learn which block holds each run's
//     latest version; Apply reads them to tell an unchanged re-read from an
//     update.
//   - data: blockVersion, the uvarint length of the payload, and the
//     payload compressed in frames (lz.go, no dictionary: a block's records
//     repeat each other enough), each the uvarint length of its part of the
//     payload, the uvarint length of its compressed bytes and those bytes.
//     A large block has several frames, compressed on several processors.
//     The payload is, per record, its source (uvarint length and bytes), its
//     line (varint) and its document (uvarint length and the document of
//     docVersion, codec.go).
//
// A later version of a run goes into a later block; the earlier version
// stays where it was until compaction rewrites its block (see
// sqlStore.compact), and readers skip it: a record is live when its block
// is the one the run index (index.go) names for its key.

// blockVersion starts the data of every block.
const blockVersion = 1

// blockMaxRecords bounds the records of one block: a batch larger than it
// is stored as several blocks.
const blockMaxRecords = 16384

// keyEntrySize is the size of one record's entry in a block's keys.
const keyEntrySize = 16

// maxBlockBytes bounds a decompressed block, and maxBlockRatio its size
// over its compressed size, against corrupt input.
const (
	maxBlockBytes = 1 << 30
	maxBlockRatio = 1024
)

// Mixing constants of hash64.
const (
	hashK1 = 0x9e3779b97f4a7c15
	hashK2 = 0xc2b2ae3d27d4eb4f
	hashK3 = 0x165667b19e3779f9
)

// hash64 is a fast 64-bit hash of b, stable across processes and builds
// (it is stored on disk). It is not meant to resist chosen collisions:
// like the engine's run hash, it identifies records of one center.
func hash64(seed uint64, b []byte) uint64 {
	h := seed ^ uint64(len(b))*hashK1
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		h = bits.RotateLeft64(h^(w*hashK2), 31) * hashK1
		b = b[8:]
	}
	if len(b) > 0 {
		var tail [8]byte
		copy(tail[:], b)
		w := binary.LittleEndian.Uint64(tail[:])
		h = bits.RotateLeft64(h^(w*hashK2), 27) * hashK3
	}
	return fmix(h)
}

// fmix is the finaliser of MurmurHash3: every input bit affects every
// output bit.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// keyHash returns the fingerprint of a run's key (cluster, job id, raw
// id, start); never 0, which the run index reserves.
func keyHash(cluster, jobID, rawID string, start int64) uint64 {
	h := hash64(1, []byte(cluster))
	h = hash64(h, []byte(jobID))
	h = hash64(h, []byte(rawID))
	h = fmix(h ^ uint64(start)*hashK2)
	if h == 0 {
		h = 1
	}
	return h
}

// docHash returns the fingerprint of a document.
func docHash(doc []byte) uint64 { return hash64(2, doc) }

// blockMeta is what the blocks table says of a block besides its keys and
// data: what Jobs uses to skip blocks, and the counts compaction needs.
type blockMeta struct {
	records int
	// minStart and maxStart bound the start times of the records that
	// started (0: none did); maxEnd is the latest end of the ended ones;
	// running counts the started records without an end, unstarted those
	// that never started.
	minStart, maxStart, maxEnd int64
	running, unstarted         int
}

// add folds w into m.
func (m *blockMeta) add(w *row) {
	m.records++
	switch {
	case w.start == 0:
		m.unstarted++
		return
	case m.minStart == 0 || w.start < m.minStart:
		m.minStart = w.start
	}
	m.maxStart = max(m.maxStart, w.start)
	if w.end == 0 {
		m.running++
	} else {
		m.maxEnd = max(m.maxEnd, w.end)
	}
}

// encodedBlock is a block ready to be written.
type encodedBlock struct {
	meta blockMeta
	keys []byte
	data []byte
	// hashes are the records' key fingerprints, in order.
	hashes []uint64
}

// blockWriter encodes blocks; it reuses its buffers and is not safe for
// concurrent use.
type blockWriter struct {
	raw []byte
	// ends are the offsets in raw where each record ends.
	ends []int
	lz   [maxFrames]blockLZ
}

// maxFrames bounds the frames of a block; frameBytes is the payload from
// which a block is split into frames.
const (
	maxFrames  = 2
	frameBytes = 256 << 10
)

// encode returns the block of rows.
func (bw *blockWriter) encode(rows []row) encodedBlock {
	var b encodedBlock
	b.keys = make([]byte, 0, len(rows)*keyEntrySize)
	b.hashes = make([]uint64, len(rows))
	raw, ends := bw.raw[:0], bw.ends[:0]
	for i := range rows {
		w := &rows[i]
		b.meta.add(w)
		b.hashes[i] = w.hash
		b.keys = binary.LittleEndian.AppendUint64(b.keys, w.hash)
		b.keys = binary.LittleEndian.AppendUint64(b.keys, w.docHash)
		raw = appendString(raw, w.source)
		raw = binary.AppendVarint(raw, w.line)
		raw = binary.AppendUvarint(raw, uint64(len(w.doc)))
		raw = append(raw, w.doc...)
		ends = append(ends, len(raw))
	}
	bw.raw, bw.ends = raw, ends
	// Frames end at record boundaries.
	frames := 1
	if len(raw) >= 2*frameBytes {
		frames = min(maxFrames, runtime.GOMAXPROCS(0))
	}
	cuts := make([]int, frames+1)
	for f := 1; f < frames; f++ {
		at, _ := slices.BinarySearch(ends, f*len(raw)/frames)
		cuts[f] = ends[min(at, len(ends)-1)]
	}
	cuts[frames] = len(raw)
	comp := make([][]byte, frames)
	var wg sync.WaitGroup
	for f := 1; f < frames; f++ {
		wg.Go(func() { comp[f] = bw.lz[f].encode(nil, raw[cuts[f]:cuts[f+1]]) })
	}
	comp[0] = bw.lz[0].encode(make([]byte, 0, len(raw)/(3*frames)+16), raw[:cuts[1]])
	wg.Wait()
	size := 16
	for _, c := range comp {
		size += len(c) + 16
	}
	data := make([]byte, 0, size)
	data = append(data, blockVersion)
	data = binary.AppendUvarint(data, uint64(len(raw)))
	for f, c := range comp {
		data = binary.AppendUvarint(data, uint64(cuts[f+1]-cuts[f]))
		data = binary.AppendUvarint(data, uint64(len(c)))
		data = append(data, c...)
	}
	b.data = data
	return b
}

// blockEntry is one record of a decoded block: slices of its payload.
type blockEntry struct {
	source []byte
	line   int64
	doc    []byte
}

// decodeBlock decompresses data into buf (reused) and splits it into
// entries, checking that there are n.
func decodeBlock(buf []byte, entries []blockEntry, data []byte, n int) ([]byte, []blockEntry, error) {
	entries = entries[:0]
	if len(data) == 0 || data[0] != blockVersion {
		v := -1
		if len(data) > 0 {
			v = int(data[0])
		}
		return buf, entries, fmt.Errorf("%w: block version %d (this scmon reads version %d)", errCorrupt, v, blockVersion)
	}
	size, k := binary.Uvarint(data[1:])
	// Records never compress a thousandfold (each has its own id and
	// times): a larger size is corrupt, and is not allocated.
	if k <= 0 || size > maxBlockBytes || size > uint64(len(data))*maxBlockRatio {
		return buf, entries, fmt.Errorf("%w: bad block size", errCorrupt)
	}
	if uint64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	raw := buf[:0]
	rest := docReader{b: data[1+k:]}
	for rest.err == nil && len(rest.b) > 0 {
		n := rest.uvarint()
		frame := rest.bytes()
		if rest.err != nil {
			break
		}
		if n > size-uint64(len(raw)) {
			return buf, entries, fmt.Errorf("%w: block frames longer than its %d bytes", errCorrupt, size)
		}
		// Decoded in place after the frames before it: the capacity
		// holds it, so the slice stays in raw's array.
		out, err := lzDecode(raw[len(raw):], nil, frame, int(n))
		if err != nil {
			return buf, entries, err
		}
		if uint64(len(out)) != n {
			return buf, entries, fmt.Errorf("%w: block frame of %d bytes, header says %d", errCorrupt, len(out), n)
		}
		raw = raw[:len(raw)+len(out)]
	}
	if rest.err != nil {
		return buf, entries, rest.err
	}
	if uint64(len(raw)) != size {
		return raw, entries, fmt.Errorf("%w: block of %d bytes, header says %d", errCorrupt, len(raw), size)
	}
	p := docReader{b: raw}
	for p.err == nil && len(p.b) > 0 {
		var e blockEntry
		e.source = p.bytes()
		e.line = p.varint()
		e.doc = p.bytes()
		entries = append(entries, e)
	}
	if p.err != nil {
		return raw, entries, p.err
	}
	if len(entries) != n {
		return raw, entries, fmt.Errorf("%w: block holds %d records, its keys %d", errCorrupt, len(entries), n)
	}
	return raw, entries, nil
}

// keyAt returns the key and document fingerprints of record i of keys.
func keyAt(keys []byte, i int) (key, doc uint64) {
	e := keys[i*keyEntrySize:]
	return binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint64(e[8:])
}

// blockLZ compresses a block's payload in the stream format of lz.go,
// finding repeats anywhere earlier in the payload. It is not safe for
// concurrent use.
type blockLZ struct {
	table []int32
}

const blockHashBits = 16

// encode appends the compressed src to dst.
func (e *blockLZ) encode(dst, src []byte) []byte {
	if e.table == nil {
		e.table = make([]int32, 1<<blockHashBits)
	} else {
		clear(e.table)
	}
	lit := 0
	i := 0
	for i+8 <= len(src) {
		h := uint32((binary.LittleEndian.Uint64(src[i:]) << 16 * hashK1) >> (64 - blockHashBits))
		cand := int(e.table[h]) - 1
		e.table[h] = int32(i + 1)
		if cand < 0 || binary.LittleEndian.Uint32(src[cand:]) != binary.LittleEndian.Uint32(src[i:]) {
			i++
			continue
		}
		// Extend the match forward, eight bytes at a time.
		n := 4
		for i+n+8 <= len(src) {
			x := binary.LittleEndian.Uint64(src[i+n:]) ^ binary.LittleEndian.Uint64(src[cand+n:])
			if x != 0 {
				n += bits.TrailingZeros64(x) >> 3
				goto found
			}
			n += 8
		}
		for i+n < len(src) && src[i+n] == src[cand+n] {
			n++
		}
	found:
		if i > lit {
			dst = binary.AppendUvarint(dst, uint64(i-lit)<<1)
			dst = append(dst, src[lit:i]...)
		}
		dst = binary.AppendUvarint(dst, uint64(n)<<1|1)
		dst = binary.AppendUvarint(dst, uint64(i-cand))
		// Index a few positions inside the match, so that later repeats
		// of its end find it.
		end := i + n
		for j := i + 1; j < end && j+8 <= len(src); j += 3 {
			e.table[uint32((binary.LittleEndian.Uint64(src[j:])<<16*hashK1)>>(64-blockHashBits))] = int32(j + 1)
		}
		i = end
		lit = i
	}
	if len(src) > lit {
		dst = binary.AppendUvarint(dst, uint64(len(src)-lit)<<1)
		dst = append(dst, src[lit:]...)
	}
	return dst
}
