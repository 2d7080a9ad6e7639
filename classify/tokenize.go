package classify

import (
	"unicode"
	"unicode/utf8"
)

// Tokenize splits text into the tokens the lexicon is matched against: runs
// of letters or digits, split again where lower case turns to upper case
// ("MindSpeed" is mind, speed; "HTTPServer" is http, server) and where
// letters turn to digits ("qwen2" is qwen, 2), folded to lower case. Runs of
// CJK ideographs are kept whole ("模型训练"), since they carry no spaces.
// Every other character separates tokens. So "run_megatron.sh",
// "megatron_gpt" and "/data/Megatron-LM/" all hold the token "megatron".
func Tokenize(s string) []string {
	return appendTokens(nil, s, true)
}

// words splits text only at separators and at CJK boundaries, keeping
// brand spellings whole ("vLLM" is vllm, "DeepSpeed" is deepspeed, "cp2k"
// is cp2k). The lexicon matches every term against both splits.
func words(s string) []string {
	return appendTokens(nil, s, false)
}

// runeKind classifies a rune for tokenizing.
type runeKind uint8

const (
	kSep runeKind = iota
	kLower
	kUpper
	kDigit
	kCJK
	kOtherLetter // letters without case outside CJK (kept with their run)
)

func kindOf(r rune) runeKind {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z':
			return kLower
		case 'A' <= r && r <= 'Z':
			return kUpper
		case '0' <= r && r <= '9':
			return kDigit
		}
		return kSep
	}
	switch {
	case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r):
		return kCJK
	case unicode.IsUpper(r):
		return kUpper
	case unicode.IsLower(r):
		return kLower
	case unicode.IsDigit(r):
		return kDigit
	case unicode.IsLetter(r):
		return kOtherLetter
	}
	return kSep
}

// appendTokens appends the tokens of s to out. ASCII tokens already in
// lower case are substrings of s (no allocation).
func appendTokens(out []string, s string, fine bool) []string {
	start := -1
	var prev runeKind
	emit := func(end int) {
		if start >= 0 && end > start {
			out = append(out, foldKey(s[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		k := kindOf(r)
		if k == kSep {
			emit(i)
			prev = kSep
			i += size
			continue
		}
		if start >= 0 && !fine {
			if (k == kCJK) != (prev == kCJK) {
				emit(i)
			}
		} else if start >= 0 {
			split := false
			switch {
			case k == kCJK || prev == kCJK:
				split = k != prev
			case k == kDigit || prev == kDigit:
				split = k != prev
			case prev == kLower && k == kUpper:
				split = true
			case prev == kUpper && k == kLower:
				// "HTTPServer": the last upper-case letter starts the
				// next word, unless the run is one letter long.
				if j := lastRuneStart(s, i); j > start {
					emit(j)
					start = j
				}
			}
			if split {
				emit(i)
			}
		}
		if start < 0 {
			start = i
		}
		prev = k
		i += size
	}
	emit(len(s))
	return out
}

// lastRuneStart returns the offset of the rune before offset i.
func lastRuneStart(s string, i int) int {
	_, size := utf8.DecodeLastRuneInString(s[:i])
	return i - size
}
