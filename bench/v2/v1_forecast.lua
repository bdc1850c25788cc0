-- wrk script: POST /v1/forecast, the request bench/v2/v2_infer.lua asks in the V2 protocol.
wrk.method = "POST"
wrk.body = '{"model":"bench-ets","horizon":8,"levels":[80,95]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
