-- wrk script of the rolling-restart benchmark: POST /v1/forecast with the token in TOKEN.
wrk.method = "POST"
wrk.body = '{"model":"deploy-gdp","horizon":4}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
