package classify

import (
	"slices"
	"testing"
)

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"run_megatron.sh", []string{"run", "megatron", "sh"}},
		{"megatron_gpt", []string{"megatron", "gpt"}},
		{"/data/Megatron-LM/", []string{"data", "megatron", "lm"}},
		{"MindSpeed-LLM", []string{"mind", "speed", "llm"}},
		{"HTTPServer", []string{"http", "server"}},
		{"qwen2.5-72b", []string{"qwen", "2", "5", "72", "b"}},
		{"cp2k.psmp", []string{"cp", "2", "k", "psmp"}},
		{"模型训练_qwen", []string{"模型训练", "qwen"}},
		{"torch_npu", []string{"torch", "npu"}},
		{"vLLM", []string{"v", "llm"}},
		{"", nil},
		{"--", nil},
		{"ÉCOLE_été", []string{"école", "été"}},
	} {
		if got := Tokenize(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
