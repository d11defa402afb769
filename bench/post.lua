-- wrk sends the same POST as peakrps and oha in bench/vs-peers.sh.
wrk.method = "POST"
wrk.body   = '{"instances": [[5.9, 3.0, 4.2, 1.5]]}'
wrk.headers["Content-Type"] = "application/json"
