from kedro.pipeline import Pipeline, node

from .nodes import selecionar_melhor_modelo, treinar_arvore, treinar_regressao


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(treinar_regressao, ["base_treino", "base_teste", "params:regressao"], "modelo_regressao", name="treinar_regressao"),
            node(treinar_arvore, ["base_treino", "base_teste", "params:arvore", "params:semente"], "modelo_arvore", name="treinar_arvore"),
            node(
                selecionar_melhor_modelo,
                ["modelo_regressao", "modelo_arvore", "base_teste", "params:nome_modelo_registrado"],
                ["metricas_modelos", "nome_melhor_modelo"],
                name="selecionar_melhor_modelo",
            ),
        ]
    )
