-- wrk script: the same POST /v1/forecast request for every server in the comparison.
wrk.method = "POST"
wrk.body = '{"model":"bench-ets","horizon":8,"levels":[80,95]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
