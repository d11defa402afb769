use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::aws::eventstream::{encode_exception, encode_payload_part};

fn events(format: Format, pieces: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut f = Framer::new(format);
    let mut out = Vec::new();
    for p in pieces {
        f.push(p, &mut out);
    }
    f.finish(&mut out);
    out
}

/// Every way of cutting `bytes` in two, and byte by byte, gives the events of the whole.
fn same_at_every_boundary(format: Format, bytes: &[u8]) -> Vec<Vec<u8>> {
    let whole = events(format, &[bytes]);
    for cut in 0..=bytes.len() {
        let (a, b) = bytes.split_at(cut);
        assert_eq!(events(format, &[a, b]), whole, "cut at {cut}");
    }
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(events(format, &singles), whole, "byte by byte");
    whole
}

#[test]
fn sse_events_at_every_boundary() {
    let stream = b": keep-alive\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata:two\ndata: lines\n\nid: 7\n\ndata: [DONE]\n\n";
    let got = same_at_every_boundary(Format::Sse, stream);
    assert_eq!(
        got,
        vec![
            b"{\"a\":1}".to_vec(),
            b"two\nlines".to_vec(),
            b"[DONE]".to_vec()
        ]
    );
    // A stream that ends without its last blank line still delivers the event.
    assert_eq!(
        events(Format::Sse, &[b"data: last"]),
        vec![b"last".to_vec()]
    );
    // A lone CR ends a line too.
    assert_eq!(
        events(Format::Sse, &[b"data: a\r\rdata: b\r\r"]),
        vec![b"a".to_vec(), b"b".to_vec()]
    );
}

#[test]
fn ndjson_events_at_every_boundary() {
    let stream = b"{\"token\":{\"text\":\"a\"}}\n\n  {\"token\":{\"text\":\"b\"}}\r\n{\"x\":2}";
    let got = same_at_every_boundary(Format::Ndjson, stream);
    assert_eq!(got.len(), 3);
    assert_eq!(got[1], b"{\"token\":{\"text\":\"b\"}}".to_vec());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sse_and_ndjson_ignore_how_bytes_are_split(
        texts in proptest::collection::vec("[a-z {}\":,]{0,12}", 1..8),
        cuts in proptest::collection::vec(0usize..200, 0..10),
        crlf in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let sse: String = texts.iter().map(|t| format!("data: {t}{nl}{nl}")).collect();
        let ndjson: String = texts.iter().map(|t| format!("{{\"t\":\"{t}\"}}{nl}")).collect();
        for (format, text) in [(Format::Sse, sse), (Format::Ndjson, ndjson)] {
            let bytes = text.as_bytes();
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut pieces = Vec::new();
            let mut from = 0;
            for p in points {
                pieces.push(&bytes[from..p]);
                from = p;
            }
            pieces.push(&bytes[from..]);
            prop_assert_eq!(events(format, &pieces), events(format, &[bytes]));
        }
        // One space after the colon is dropped (WHATWG), the rest kept.
        let got = events(Format::Sse, &[texts.iter().map(|t| format!("data: {t}\n\n")).collect::<String>().as_bytes()]);
        let expected: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn formats_from_content_type_or_first_bytes() {
    assert_eq!(
        Format::of_content_type("text/event-stream; charset=utf-8"),
        Some(Format::Sse)
    );
    assert_eq!(
        Format::of_content_type("application/x-ndjson"),
        Some(Format::Ndjson)
    );
    assert_eq!(
        Format::of_content_type("application/jsonlines"),
        Some(Format::Ndjson)
    );
    assert_eq!(Format::of_content_type("application/json"), None);
    assert_eq!(Format::sniff(b"\ndata: x"), Format::Sse);
    assert_eq!(Format::sniff(b"{\"a\":1}"), Format::Ndjson);
    assert_eq!(Format::sniff(b"hello"), Format::Raw);
}

#[test]
fn openai_chunks_tokens_usage_done_and_errors() {
    let chunk = br#"{"choices":[{"index":0,"delta":{"content":" Hello"}}]}"#;
    assert_eq!(read_event(Api::OpenAiChat, chunk).tokens, 1);
    let role_only = br#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
    assert_eq!(read_event(Api::OpenAiChat, role_only).tokens, 0);
    let text = br#"{"choices":[{"index":0,"text":"Hi","finish_reason":null}]}"#;
    assert_eq!(read_event(Api::OpenAiCompletions, text).tokens, 1);
    let usage =
        br#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}"#;
    let said = read_event(Api::OpenAiChat, usage);
    assert_eq!(
        (said.usage_input, said.usage_output, said.tokens),
        (Some(12), Some(34), 0)
    );
    assert!(read_event(Api::OpenAiChat, b"[DONE]").done);
    let error = br#"{"error":{"message":"out of memory","code":500}}"#;
    assert_eq!(
        read_event(Api::OpenAiChat, error).error.as_deref(),
        Some("out of memory")
    );
    assert_eq!(read_event(Api::OpenAiChat, b"not json"), Said::default());
}

#[test]
fn tgi_chunks_tokens_and_details() {
    let token = br#"{"index":1,"token":{"id":5,"text":" a","logprob":-0.1,"special":false},"generated_text":null,"details":null}"#;
    assert_eq!(read_event(Api::Tgi, token).tokens, 1);
    let special = br#"{"token":{"id":2,"text":"</s>","special":true}}"#;
    assert_eq!(read_event(Api::Tgi, special).tokens, 0);
    let last = br#"{"token":{"text":"!","special":false},"generated_text":"a!","details":{"finish_reason":"length","generated_tokens":2}}"#;
    let said = read_event(Api::Tgi, last);
    assert_eq!((said.tokens, said.usage_output), (1, Some(2)));
    assert_eq!(
        read_event(Api::Tgi, br#"{"error":"Input validation error"}"#)
            .error
            .as_deref(),
        Some("Input validation error")
    );
    assert_eq!(read_event(Api::Raw, b"anything").tokens, 1);
}

#[test]
fn bodies_ask_for_a_stream_of_the_given_length() {
    let prompt = Prompt::Text("hello there".into());
    let g = Generation {
        max_tokens: Some(16),
        model: Some("m".into()),
    };
    let chat = body(Api::OpenAiChat, &prompt, &g);
    assert_eq!(chat["messages"][0]["content"], "hello there");
    assert_eq!(
        (
            chat["stream"].clone(),
            chat["max_tokens"].clone(),
            chat["ignore_eos"].clone()
        ),
        (json!(true), json!(16), json!(true))
    );
    assert_eq!(chat["stream_options"]["include_usage"], true);
    assert_eq!(chat["model"], "m");
    let completions = body(Api::OpenAiCompletions, &prompt, &Generation::default());
    assert_eq!(completions["prompt"], "hello there");
    assert!(completions.get("max_tokens").is_none());
    let tgi = body(Api::Tgi, &prompt, &g);
    assert_eq!(
        (
            tgi["inputs"].clone(),
            tgi["parameters"]["max_new_tokens"].clone()
        ),
        (json!("hello there"), json!(16))
    );
    assert!(tgi.get("model").is_none() && tgi.get("ignore_eos").is_none());
    assert_eq!(
        Api::openai_for_path("/v1/completions"),
        Api::OpenAiCompletions
    );
    assert_eq!(
        Api::openai_for_path("/v1/chat/completions"),
        Api::OpenAiChat
    );
    assert_eq!(Api::openai_for_path("/invocations"), Api::OpenAiChat);
}

fn source(set: Option<u32>, shared_prefix: u32, seed: u64) -> PromptSource {
    PromptSource {
        api: Api::OpenAiChat,
        generation: Generation::default(),
        words: 100,
        seed,
        shared_prefix,
        set,
    }
}

#[test]
fn synthetic_prompts_are_fresh_have_their_length_and_follow_the_seed() {
    let a = source(None, 0, 7);
    let prompts: Vec<Prompt> = (0..1000).map(|n| a.prompt(n)).collect();
    assert_eq!(prompts[999], source(None, 0, 7).prompt(999));
    assert_ne!(prompts[0], source(None, 0, 8).prompt(0));
    let distinct: std::collections::HashSet<String> = prompts.iter().map(Prompt::text).collect();
    assert_eq!(distinct.len(), 1000, "no prompt repeats");
    assert!(
        prompts
            .iter()
            .all(|p| p.text().split_whitespace().count() == 100)
    );
    // Beyond the first few words, fresh prompts share no prefix a cache could reuse.
    let head = |p: &Prompt| p.text().split(' ').take(5).collect::<Vec<_>>().join(" ");
    let heads: std::collections::HashSet<String> = prompts.iter().map(head).collect();
    assert!(heads.len() > 990, "{} distinct 5-word heads", heads.len());
}

#[test]
fn a_prompt_set_cycles_and_a_shared_prefix_is_shared() {
    let set = source(Some(3), 0, 1);
    assert_eq!(set.prompt(0), set.prompt(3));
    assert_ne!(set.prompt(0), set.prompt(1));
    let shared = source(None, 40, 1);
    let words = |n: u64| {
        shared
            .prompt(n)
            .text()
            .split(' ')
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (a, b) = (words(0), words(1));
    assert_eq!(a[..40], b[..40]);
    assert_ne!(a[40..], b[40..]);
    assert_eq!(a.len(), 100);
}

#[test]
fn a_template_with_a_prompt_feed_sends_a_new_prompt_each_request() {
    use crate::endpoint::{Endpoint, RequestTemplate};
    let endpoint = Endpoint::parse("http://127.0.0.1:9/v1/chat/completions").unwrap();
    let src = source(None, 0, 1);
    let sample = PayloadSet::from_bodies(vec![src.body(0)], "application/json");
    let template = RequestTemplate::new(endpoint, sample, None, None, &[])
        .unwrap()
        .with_stream(StreamSpec {
            api: Api::OpenAiChat,
            prompts: Some(PromptFeed::new(src.clone())),
        });
    // Closed-loop users send overlapping body numbers; the prompts must not repeat anyway.
    let wires: std::collections::HashSet<Bytes> =
        (0..50).map(|_| template.wire(0).unwrap()).collect();
    assert_eq!(wires.len(), 50);
    let first = template.wire(0).unwrap();
    assert!(
        first.ends_with(&src.body(50)),
        "request 51 carries prompt 50"
    );
}

#[test]
fn prompt_records_from_jsonl_lines() {
    let set = PayloadSet::from_bodies(
        vec![
            Bytes::from(r#"{"prompt": "tell me", "max_tokens": 7}"#),
            Bytes::from(r#"{"messages": [{"role": "user", "content": "hi"}]}"#),
        ],
        "application/json",
    );
    let out = bodies_from(Api::OpenAiChat, &set, &Generation::default()).unwrap();
    let first: Value = serde_json::from_slice(&out.body(0)).unwrap();
    assert_eq!(
        (
            first["messages"][0]["content"].clone(),
            first["max_tokens"].clone()
        ),
        (json!("tell me"), json!(7))
    );
    let forced = bodies_from(
        Api::Tgi,
        &set,
        &Generation {
            max_tokens: Some(3),
            model: None,
        },
    )
    .unwrap();
    let second: Value = serde_json::from_slice(&forced.body(1)).unwrap();
    assert_eq!(
        (
            second["inputs"].clone(),
            second["parameters"]["max_new_tokens"].clone()
        ),
        (json!("hi"), json!(3))
    );
    let bad = PayloadSet::from_bodies(
        vec![Bytes::from(r#"{"question": "x"}"#)],
        "application/json",
    );
    let e = bodies_from(Api::OpenAiChat, &bad, &Generation::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no prompt in it"), "{e}");
}

fn decode(decoder: &mut StreamDecoder, pieces: &[&[u8]]) -> Result<u32, StreamFault> {
    let mut tokens = 0;
    for p in pieces {
        tokens += decoder.push(p)?;
    }
    Ok(tokens + decoder.finish()?)
}

#[test]
fn the_decoder_reads_sse_inside_sagemaker_payload_parts() {
    let sse = concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n",
        "data: [DONE]\n\n"
    );
    // Parts cut the SSE anywhere, as SageMaker may.
    let mut wire = Vec::new();
    for part in sse.as_bytes().chunks(13) {
        wire.extend_from_slice(&encode_payload_part(part));
    }
    for piece in [1, 7, 64, wire.len()] {
        let mut d = StreamDecoder::new(
            Api::OpenAiChat,
            Some("application/vnd.amazon.eventstream"),
            Some("text/event-stream"),
        );
        let pieces: Vec<&[u8]> = wire.chunks(piece).collect();
        assert_eq!(decode(&mut d, &pieces), Ok(2), "pieces of {piece}");
        assert!(d.done);
        assert_eq!((d.usage_output, d.usage_input), (Some(2), Some(3)));
    }
    let mut with_error =
        encode_payload_part(b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n").to_vec();
    with_error.extend_from_slice(&encode_exception(true, "ModelInvocationTimeExceeded"));
    let mut d = StreamDecoder::new(
        Api::OpenAiChat,
        Some("application/vnd.amazon.eventstream"),
        None,
    );
    assert_eq!(d.push(&with_error[..40]), Ok(0));
    assert!(
        matches!(d.push(&with_error[40..]), Err(StreamFault::Model(m)) if m.contains("ModelInvocationTimeExceeded"))
    );
    // Cut inside a message: the stream broke.
    let mut d = StreamDecoder::new(Api::Raw, Some("application/vnd.amazon.eventstream"), None);
    let part = encode_payload_part(b"xyz");
    assert!(matches!(
        decode(&mut d, &[&part[..10]]),
        Err(StreamFault::Invalid(_))
    ));
}

#[test]
fn the_decoder_sniffs_what_the_headers_do_not_say() {
    let mut d = StreamDecoder::new(Api::Tgi, Some("application/json"), None);
    let ndjson = b"{\"token\":{\"text\":\"a\"}}\n{\"token\":{\"text\":\"b\"}}\n";
    assert_eq!(decode(&mut d, &[ndjson]), Ok(2));
    assert_eq!(d.format(), Some(Format::Ndjson));
    // A whole JSON answer is one event with no content delta: no tokens.
    let mut d = StreamDecoder::new(Api::OpenAiChat, Some("application/json"), None);
    let answer = br#"{"choices":[{"message":{"content":"all at once"}}]}"#;
    assert_eq!(decode(&mut d, &[answer]), Ok(0));
    assert_eq!(d.events_read, 1);
    let mut d = StreamDecoder::new(Api::Raw, Some("text/plain"), None);
    assert_eq!(decode(&mut d, &[b"a", b"b", b"c"]), Ok(3));
}
