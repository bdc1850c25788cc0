-- wrk script: POST /v1/forecast of model m000 (a production version of the monitor benchmark).
wrk.method = "POST"
wrk.body = '{"model":"m000","horizon":8,"levels":[80,95]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
