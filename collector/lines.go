package collector

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the longest line (or record joined from several lines)
// a reader accepts when Options.MaxLine is not set: 4 MiB, about a thousand
// times the longest real record seen (a sacct line with a long SubmitLine).
const DefaultMaxLine = 4 << 20

// errLineTooLong is returned by lineReader.next for a line longer than its
// cap; the line has been read past and the reader can go on.
type errLineTooLong struct {
	line int
	size int64
	max  int
}

func (e *errLineTooLong) Error() string {
	return fmt.Sprintf("line of %d bytes or more is longer than the limit of %d bytes", e.size, e.max)
}

// lineReader returns the lines of its input one at a time without the
// 64 KiB limit of bufio.Scanner, up to a cap: a longer line is read past
// in pieces, never held whole, and reported as *errLineTooLong, so that a
// gigabyte without a newline (a small gzip bomb) costs no more memory than
// the cap. The slice returned by next is valid only until the following call.
type lineReader struct {
	br   *bufio.Reader
	buf  []byte
	line int
	max  int
	err  error // a read error met while skipping a long line

	// An input already in memory is cut into lines where it lies (see
	// newMemLineReader): mem holds it, pos is where the next line starts,
	// size is the read buffer of the reader it stands in for.
	mem   []byte
	pos   int
	size  int
	inMem bool
}

// lineBufSize is the read buffer of a line reader.
const lineBufSize = 256 << 10

// newMemLineReader returns a line reader over data, held in memory, with
// a cap of max bytes: it returns the lines, line numbers and errors that
// newCappedLineReader(bytes.NewReader(data), max) returns, without copying
// the data through a read buffer.
func newMemLineReader(data []byte, max int) *lineReader {
	return newMemLineReaderSize(data, max, lineBufSize)
}

// newMemLineReaderSize is newMemLineReader standing in for
// newLineReaderSize with a read buffer of size bytes.
func newMemLineReaderSize(data []byte, max, size int) *lineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &lineReader{mem: data, size: max16(size), max: max, inMem: true}
}

// max16 is the size bufio gives a reader asked for size bytes.
func max16(size int) int { return max(size, 16) }

// nextMem is next over data in memory. An over-long line is reported as
// the buffered reader reports it: with its length without the newline
// when it fits in the read buffer or within the cap plus two bytes (it is
// then read whole), else with its length with the newline (it is skipped
// in pieces).
func (l *lineReader) nextMem() ([]byte, error) {
	rest := l.mem[l.pos:]
	if len(rest) == 0 {
		return nil, io.EOF
	}
	line, total := rest, len(rest)
	if k := bytes.IndexByte(rest, '\n'); k >= 0 {
		line, total = rest[:k], k+1
	}
	l.pos += total
	l.line++
	if len(line) >= l.size && total > l.max+2 {
		return nil, &errLineTooLong{line: l.line, size: int64(total), max: l.max}
	}
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(line) > l.max {
		return nil, &errLineTooLong{line: l.line, size: int64(len(line)), max: l.max}
	}
	return line, nil
}

// newLineReader returns a line reader with the default cap.
func newLineReader(r io.Reader) *lineReader { return newCappedLineReader(r, DefaultMaxLine) }

// newCappedLineReader returns a line reader that refuses lines longer than
// max bytes (DefaultMaxLine when max <= 0).
func newCappedLineReader(r io.Reader, max int) *lineReader {
	return newLineReaderSize(r, max, lineBufSize)
}

// newLineReaderSize is newCappedLineReader with a read buffer of size
// bytes: lines longer than the buffer are read in pieces.
func newLineReaderSize(r io.Reader, max, size int) *lineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &lineReader{br: bufio.NewReaderSize(r, size), max: max}
}

// next returns the next line with its terminating "\n" or "\r\n" removed,
// and io.EOF after the last line. A final line without a newline is
// returned. A line longer than the cap gives *errLineTooLong and counts as
// a line.
func (l *lineReader) next() ([]byte, error) {
	if l.inMem {
		return l.nextMem()
	}
	if l.err != nil {
		return nil, l.err
	}
	b, err := l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.buf = append(l.buf[:0], b...)
		size := int64(len(b))
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = l.br.ReadSlice('\n')
			size += int64(len(b))
			if len(l.buf)+len(b) <= l.max+2 { // +2: the "\r\n" removed below
				l.buf = append(l.buf, b...)
			} else {
				l.buf = l.buf[:0]
				size, l.err = l.skip(size, err)
				l.line++
				return nil, &errLineTooLong{line: l.line, size: size, max: l.max}
			}
		}
		b = l.buf
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(b) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	l.line++
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	if len(b) > l.max {
		return nil, &errLineTooLong{line: l.line, size: int64(len(b)), max: l.max}
	}
	return b, nil
}

// skip reads past the rest of an over-long line without keeping it and
// returns the line's size and the read error that ended it (nil at a
// newline or at the end of the input).
func (l *lineReader) skip(size int64, err error) (int64, error) {
	for errors.Is(err, bufio.ErrBufferFull) {
		var b []byte
		b, err = l.br.ReadSlice('\n')
		size += int64(len(b))
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return size, err
}
