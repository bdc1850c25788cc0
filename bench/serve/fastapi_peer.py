"""The Python peer of the serving benchmark: FastAPI + uvicorn serving the same forecast from a
statsmodels ETS(A,A,N) model fitted on the same series, computed per request (what an
MLflow/BentoML-style scoring server does).  Run: /usr/bin/python3 -m uvicorn fastapi_peer:app

The series comes from SERIES_CSV (period,value lines exported by `almanac series show`).
"""
import csv
import os

import numpy as np
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

rows = list(csv.reader(open(os.environ["SERIES_CSV"])))[1:]
periods = [r[0] for r in rows]
# A pandas series with a quarterly index: statsmodels 0.13's ETS prediction results fail on
# plain numpy input ("'numpy.ndarray' object has no attribute 'index'").
values = pd.Series(np.array([float(r[1]) for r in rows]),
                   index=pd.period_range(start=periods[0], periods=len(rows), freq="Q"))
model = ETSModel(values, error="add", trend="add", seasonal=None).fit(disp=False)
n = len(values)
year, quarter = int(periods[-1][:4]), int(periods[-1][-1])


def future_periods(h):
    out, y, q = [], year, quarter
    for _ in range(h):
        q += 1
        if q > 4:
            y, q = y + 1, 1
        out.append(f"{y}Q{q}")
    return out


class ForecastRequest(BaseModel):
    model: str
    horizon: int
    levels: list[float] = [80, 95]


app = FastAPI()


@app.post("/v1/forecast")
def forecast(req: ForecastRequest):
    pred = model.get_prediction(start=n, end=n + req.horizon - 1)
    intervals = []
    for level in req.levels:
        frame = pred.summary_frame(alpha=1 - level / 100)
        intervals.append({"level": level, "lower": np.asarray(frame["pi_lower"]).tolist(),
                          "upper": np.asarray(frame["pi_upper"]).tolist()})
    return {"model": req.model, "version": 1, "alias": "production", "model_type": "ets", "method": "ETS(A,A,N)",
            "frequency": "Q", "horizon": req.horizon, "periods": future_periods(req.horizon),
            "mean": np.asarray(pred.predicted_mean).tolist(), "intervals": intervals}
