import mlflow
import pandas as pd
from mlflow.models import infer_signature
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

ALVO = "shot_made_flag"


def _xy(base: pd.DataFrame):
    return base.drop(columns=[ALVO]), base[ALVO].astype(int)


def _treinar(nome: str, modelo: ClassifierMixin, treino: pd.DataFrame, teste: pd.DataFrame) -> ClassifierMixin:
    """One nested run per candidate, as PyCaret's compare_models makes them."""
    X, y = _xy(treino)
    X_teste, y_teste = _xy(teste)
    with mlflow.start_run(run_name=nome, nested=True):
        mlflow.log_params({f"{nome}.{k}": v for k, v in modelo.get_params().items() if v is not None})
        folds = cross_val_score(modelo, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="neg_log_loss")
        for passo, perda in enumerate(-folds):
            mlflow.log_metric("log_loss_validação_cruzada", float(perda), step=passo)
        modelo.fit(X, y)
        mlflow.log_metrics(
            {
                "log_loss_teste": log_loss(y_teste, modelo.predict_proba(X_teste)[:, 1]),
                "f1_teste": f1_score(y_teste, modelo.predict(X_teste)),
            }
        )
        mlflow.set_tag("algoritmo", nome)
    return modelo


def treinar_regressao(treino: pd.DataFrame, teste: pd.DataFrame, parametros: dict) -> ClassifierMixin:
    return _treinar("Regressão", LogisticRegression(**parametros), treino, teste)


def treinar_arvore(treino: pd.DataFrame, teste: pd.DataFrame, parametros: dict, semente: int) -> ClassifierMixin:
    return _treinar("Árvore de Decisão", DecisionTreeClassifier(random_state=semente, **parametros), treino, teste)


def selecionar_melhor_modelo(regressao: ClassifierMixin, arvore: ClassifierMixin, teste: pd.DataFrame, nome_registrado: str):
    X, y = _xy(teste)
    candidatos = {"Regressão": regressao, "Árvore de Decisão": arvore}
    perdas = {nome: log_loss(y, m.predict_proba(X)[:, 1]) for nome, m in candidatos.items()}
    melhor = min(perdas, key=perdas.get)
    modelo = candidatos[melhor]
    mlflow.set_tag("melhor_modelo", melhor)
    mlflow.sklearn.log_model(
        modelo,
        name="melhor_modelo",
        registered_model_name=nome_registrado,
        signature=infer_signature(X, modelo.predict(X)),
        input_example=X.head(3),
        skops_trusted_types=["sklearn.tree._tree.Tree"],  # MLflow 3's skops format trusts a tree only when told
        # Named, not inferred: inference loads the model in a subprocess, the slowest step of the run.
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
    )
    metricas = {f"log_loss_{nome}": {"value": perda, "step": 0} for nome, perda in perdas.items()}
    return metricas, melhor
