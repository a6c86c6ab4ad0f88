import mlflow
import pandas as pd
from sklearn.model_selection import train_test_split


def preparar_dados(arremessos: pd.DataFrame, colunas: list, tipo_arremesso: str) -> pd.DataFrame:
    dados = arremessos[arremessos["shot_type"] == tipo_arremesso][colunas].dropna().drop_duplicates()
    mlflow.log_metric("tamanho_dados_pós_preparacao", len(dados))
    mlflow.log_input(mlflow.data.from_pandas(dados, name="dados_filtrados", targets="shot_made_flag"), context="preparação")
    return dados


def separar_treino_teste(dados: pd.DataFrame, proporcao: float, semente: int):
    treino, teste = train_test_split(dados, test_size=proporcao, random_state=semente, stratify=dados["shot_made_flag"])
    metricas = {
        "tamanho_base_treino": {"value": len(treino), "step": 0},
        "tamanho_base_teste": {"value": len(teste), "step": 0},
        "proporção_acertos": [
            {"value": float(treino["shot_made_flag"].mean()), "step": 0},
            {"value": float(teste["shot_made_flag"].mean()), "step": 1},
        ],
    }
    return treino, teste, metricas
