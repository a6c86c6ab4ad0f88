import mlflow
import pandas as pd
from sklearn.metrics import f1_score, log_loss

ALVO = "shot_made_flag"


def aplicar_modelo(arremessos: pd.DataFrame, colunas: list, tipo_arremesso: str, nome_registrado: str, melhor: str) -> pd.DataFrame:
    """Scores production shots with the registered model, read back from the registry as a server would."""
    dados = arremessos[arremessos["shot_type"] == tipo_arremesso][colunas].dropna()
    modelo = mlflow.sklearn.load_model(f"models:/{nome_registrado}/latest")
    X, y = dados.drop(columns=[ALVO]), dados[ALVO].astype(int)
    probabilidade = modelo.predict_proba(X)[:, 1]
    mlflow.log_metrics({"log_loss_produção": log_loss(y, probabilidade), "f1_produção": f1_score(y, modelo.predict(X))})
    return dados.assign(probabilidade=probabilidade.round(6), modelo=melhor)


def relatorio(metricas_divisao: dict, metricas_modelos: dict, previsoes: pd.DataFrame) -> dict:
    """Reads the metrics back through kedro-mlflow's dataset (from the tracking server), as a report node does."""
    return {
        "métricas": {**metricas_divisao, **metricas_modelos},
        "previsões": len(previsoes),
        "acertos_previstos": int((previsoes["probabilidade"] >= 0.5).sum()),
    }
