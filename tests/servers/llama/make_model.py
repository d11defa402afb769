#!/usr/bin/env python3
"""Write a tiny random-weight Llama-architecture GGUF model for llama-server.

The tokenizer is a real byte-level BPE (GPT-2 style), trained here with the
`tokenizers` package on text already on disk (Python's stdlib sources and
/usr/share/common-licenses), so prompts tokenize like a real model's would.
The weights are random (seeded), so the text generated is gibberish but the
compute per token is that of a genuine (very small) transformer.

Outputs in --out:
  tiny.gguf              the model (llama arch, gpt2 tokenizer, chat template)
  tokenizer.json         the same tokenizer in Hugging Face format
  tokenizer_config.json  bos/eos and chat template, HF style

Pins: gguf==0.19.0 tokenizers==0.23.3 numpy (make.sh pins the versions).
"""
import argparse
import json
import os
import sys
import sysconfig

import numpy as np

BOS, EOS, IM_START, IM_END = "<s>", "</s>", "<|im_start|>", "<|im_end|>"
SPECIALS = [BOS, EOS, IM_START, IM_END]

# ChatML. llama-server renders it with its Jinja engine (and, without
# --jinja, recognises it as the built-in "chatml" template).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def corpus_files(max_bytes):
    """Deterministic list of text files on disk, sorted, capped in total size."""
    roots = [sysconfig.get_paths()["stdlib"], "/usr/share/common-licenses"]
    files = []
    for root in roots:
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames
                                 if d not in ("site-packages", "__pycache__", "test", "tests", "idlelib"))
            for fn in sorted(filenames):
                p = os.path.join(dirpath, fn)
                if root.endswith("common-licenses") or fn.endswith(".py"):
                    if os.path.isfile(p) and not os.path.islink(p):
                        files.append(p)
    out, total = [], 0
    for p in files:
        sz = os.path.getsize(p)
        if total + sz > max_bytes:
            continue
        out.append(p)
        total += sz
    return out, total


def train_tokenizer(vocab_size, max_bytes):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    files, total = corpus_files(max_bytes)
    if not files:
        sys.exit("no corpus text found on disk")
    print(f"training BPE on {len(files)} files, {total/1e6:.1f} MB", file=sys.stderr)

    tok = Tokenizer(models.BPE())
    # GPT-2 regex + byte-level mapping: matches llama.cpp's "gpt-2" pre-tokenizer.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )

    def lines():
        for p in files:
            with open(p, encoding="utf-8", errors="replace") as f:
                yield f.read()

    tok.train_from_iterator(lines(), trainer=trainer)
    # encode(..., add_special_tokens=True) prepends BOS, as llama.cpp does
    # (tokenizer.ggml.add_bos_token), so prompt token counts agree.
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)])
    return tok


def tokenizer_arrays(tok):
    """tokens (by id), token types, merges ("a b") from the trained tokenizer."""
    import gguf

    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    n = max(vocab.values()) + 1
    for t in spec.get("added_tokens", []):
        n = max(n, t["id"] + 1)
    tokens = [None] * n
    for t, i in vocab.items():
        tokens[i] = t
    for t in spec.get("added_tokens", []):
        tokens[t["id"]] = t["content"]
    assert all(t is not None for t in tokens), "holes in vocab ids"
    types = [gguf.TokenType.CONTROL if t in SPECIALS else gguf.TokenType.NORMAL for t in tokens]
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    return tokens, types, merges


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=3072)
    ap.add_argument("--corpus-mb", type=float, default=8.0)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=384)
    ap.add_argument("--ctx", type=int, default=8192)
    ap.add_argument("--f16", action="store_true", help="F16 matrices (default F32)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    import gguf

    os.makedirs(a.out, exist_ok=True)
    tok = train_tokenizer(a.vocab, int(a.corpus_mb * 1e6))
    tok.save(os.path.join(a.out, "tokenizer.json"))
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": BOS, "eos_token": EOS, "add_bos_token": True,
                   "model_max_length": a.ctx, "chat_template": CHAT_TEMPLATE,
                   "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=2)

    tokens, types, merges = tokenizer_arrays(tok)
    n_vocab = len(tokens)
    tid = {t: i for i, t in enumerate(tokens)}
    head_dim = a.hidden // a.heads
    assert head_dim * a.heads == a.hidden

    path = os.path.join(a.out, "tiny.gguf")
    tmp = path + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name("peakrps-tiny-random")
    w.add_context_length(a.ctx)
    w.add_embedding_length(a.hidden)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.ffn)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if a.f16 else gguf.LlamaFileType.ALL_F32)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(tid[BOS])
    w.add_eos_token_id(tid[EOS])
    w.add_eot_token_id(tid[IM_END])
    w.add_pad_token_id(tid[EOS])
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    rng = np.random.default_rng(a.seed)
    mat_dtype = np.float16 if a.f16 else np.float32

    def mat(rows, cols, std=0.02):
        # numpy shape (rows, cols) == ggml ne [cols, rows]
        return (rng.standard_normal((rows, cols), dtype=np.float32) * std).astype(mat_dtype)

    def ones(n):
        return np.ones(n, dtype=np.float32)

    kv = a.kv_heads * head_dim
    # Larger embedding/output scale so the random logits are not all ~equal.
    w.add_tensor("token_embd.weight", mat(n_vocab, a.hidden, 1.0))
    for i in range(a.layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones(a.hidden))
        w.add_tensor(p + "attn_q.weight", mat(a.hidden, a.hidden))
        w.add_tensor(p + "attn_k.weight", mat(kv, a.hidden))
        w.add_tensor(p + "attn_v.weight", mat(kv, a.hidden))
        w.add_tensor(p + "attn_output.weight", mat(a.hidden, a.hidden))
        w.add_tensor(p + "ffn_norm.weight", ones(a.hidden))
        w.add_tensor(p + "ffn_gate.weight", mat(a.ffn, a.hidden))
        w.add_tensor(p + "ffn_up.weight", mat(a.ffn, a.hidden))
        w.add_tensor(p + "ffn_down.weight", mat(a.hidden, a.ffn))
    w.add_tensor("output_norm.weight", ones(a.hidden))
    w.add_tensor("output.weight", mat(n_vocab, a.hidden, 0.1))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)
    n_params = n_vocab * a.hidden * 2 + a.layers * (2 * a.hidden * a.hidden + 2 * kv * a.hidden
                                                    + 3 * a.ffn * a.hidden)
    print(f"wrote {path} ({os.path.getsize(path)/1e6:.1f} MB, ~{n_params/1e6:.2f}M params, "
          f"vocab {n_vocab}, {len(merges)} merges)", file=sys.stderr)


if __name__ == "__main__":
    main()
