-- wrk script: POST /v2/models/bench-ets/infer (Open Inference Protocol), the same forecast as
-- bench/v2/v1_forecast.lua (horizon 8, levels 80 and 95), with an id and a parameter as
-- KServe clients send them.
wrk.method = "POST"
wrk.body = '{"id":"bench","parameters":{"client":"wrk"},"inputs":['
  .. '{"name":"horizon","shape":[1],"datatype":"INT32","data":[8]},'
  .. '{"name":"levels","shape":[2],"datatype":"FP64","data":[80,95]}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
