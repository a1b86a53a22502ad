import { CstParser, tokenMatcher, type CstNode, type IToken, type TokenType } from "chevrotain";
import * as T from "./lexer.js";
import { errorMessageProvider } from "./parse-errors.js";
import { bracketAwareRecovery } from "./recovery.js";

/**
 * The grammar of repr as a Chevrotain CST parser. The grammar is pure: each
 * rule's doc comment is the production it implements, and meaning is given by
 * `cst-to-ast.ts`. One instance is built once and reused for every file.
 *
 * Error recovery is on: a missing token is inserted or a stray one deleted when
 * that fixes the input locally; otherwise the parser skips to the next token
 * that can start a declaration, member, step or statement. A rule that
 * recovered yields a partial node (`recoveredNode`), which the visitor tolerates.
 */
export class ReprGrammar extends CstParser {
  constructor() {
    super([...T.allTokens], {
      recoveryEnabled: true,
      maxLookahead: 3,
      nodeLocationTracking: "onlyOffset",
      errorMessageProvider,
    });
    this.performSelfAnalysis();
  }

  /**
   * True when the next tokens read as the start of a declaration, member or
   * step (`decoder g =`), so a keyword there is not taken as a reference. This
   * only sharpens errors: no valid expression is followed by a keyword, a
   * plain identifier and that keyword's next token.
   */
  private startsStatement(): boolean {
    const follows = statementStarts.get(this.LA(1).tokenType);
    if (!follows) return false;
    // A keyword name here (`output model` then `output {}`) is too likely valid.
    if (this.LA(2).tokenType !== T.Ident) return false;
    const third = this.LA(3).tokenType;
    return follows.includes(third);
  }

  /**
   * Chevrotain's in-repetition recovery, made bracket-aware (see `recovery.ts`).
   * This overrides an internal method of Chevrotain 11, pinned in package.json.
   */
  tryInRepetitionRecovery(
    grammarRule: (...args: unknown[]) => unknown,
    grammarRuleArgs: unknown[],
    lookAheadFunc: () => boolean,
    expectedTokType: TokenType,
  ): void {
    bracketAwareRecovery(this, grammarRule, grammarRuleArgs, lookAheadFunc, expectedTokType);
  }

  /** File = { Item } ; */
  file = this.RULE("file", () => {
    this.MANY(() => this.SUBRULE(this.item));
  });

  /** Item = Import | Block | Model | Data | Pipeline ; */
  item = this.RULE("item", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.dataDecl) },
      { ALT: () => this.SUBRULE(this.pipelineDecl) },
    ]);
  });

  /** Import = "import" ( String | "{" Name { "," Name } [","] "}" "from" String ) ; */
  importDecl = this.RULE("importDecl", () => {
    this.CONSUME(T.Import);
    this.OR([
      { ALT: () => this.CONSUME(T.StringLiteral, { LABEL: "path" }) },
      {
        ALT: () => {
          this.CONSUME(T.LCurly);
          this.CONSUME(T.AnyName, { LABEL: "names" });
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.CONSUME2(T.AnyName, { LABEL: "names" });
          });
          this.OPTION(() => this.CONSUME2(T.Comma));
          this.CONSUME(T.RCurly);
          this.CONSUME(T.From);
          this.CONSUME2(T.StringLiteral, { LABEL: "path" });
        },
      },
    ]);
  });

  /** Block = "block" Name "(" [ Param { "," Param } [","] ] ")" "{" { BlockStmt } "}" ; */
  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.param);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.param);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.LCurly);
    this.MANY2(() => this.SUBRULE(this.blockStmt));
    this.CONSUME(T.RCurly);
  });

  /** Param = Name ":" Expr [ "=" Expr ] ; */
  param = this.RULE("param", () => {
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expr, { LABEL: "type" });
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE2(this.expr, { LABEL: "default" });
    });
  });

  /** BlockStmt = Input | Let | Output | Expr ;  (a leading keyword starts a statement) */
  blockStmt = this.RULE("blockStmt", () => {
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { ALT: () => this.SUBRULE(this.inputDecl) },
        { ALT: () => this.SUBRULE(this.letDecl) },
        { ALT: () => this.SUBRULE(this.outputDecl) },
        { ALT: () => this.SUBRULE(this.expr) },
      ],
    });
  });

  /** Model = "model" Name "{" { Member } "}" ; */
  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.member));
    this.CONSUME(T.RCurly);
  });

  /** Member = Input | Part | Mask | Views | Let | Loss | Output ; */
  member = this.RULE("member", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.partDecl) },
      { ALT: () => this.SUBRULE(this.maskDecl) },
      { ALT: () => this.SUBRULE(this.viewsDecl) },
      { ALT: () => this.SUBRULE(this.letDecl) },
      { ALT: () => this.SUBRULE(this.lossDecl) },
      { ALT: () => this.SUBRULE(this.outputDecl) },
    ]);
  });

  /** Input = "input" Name [ ":" Expr ] ; */
  inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.expr, { LABEL: "type" });
    });
  });

  /** Part = ("encoder"|"bottleneck"|"decoder"|"head"|"part") Name "=" Expr ; */
  partDecl = this.RULE("partDecl", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Encoder, { LABEL: "role" }) },
      { ALT: () => this.CONSUME(T.Bottleneck, { LABEL: "role" }) },
      { ALT: () => this.CONSUME(T.Decoder, { LABEL: "role" }) },
      { ALT: () => this.CONSUME(T.Head, { LABEL: "role" }) },
      { ALT: () => this.CONSUME(T.Part, { LABEL: "role" }) },
    ]);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  /** Mask = "mask" Name "=" Expr ; */
  maskDecl = this.RULE("maskDecl", () => {
    this.CONSUME(T.Mask);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  /** Views = "views" Name "," Name "=" Expr ; */
  viewsDecl = this.RULE("viewsDecl", () => {
    this.CONSUME(T.Views);
    this.CONSUME(T.AnyName, { LABEL: "names" });
    this.CONSUME(T.Comma);
    this.CONSUME2(T.AnyName, { LABEL: "names" });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  /** Let = "let" Name "=" Expr ; */
  letDecl = this.RULE("letDecl", () => {
    this.CONSUME(T.Let);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  /** Loss = "loss" Name "=" Expr [ "on" Expr ] ; */
  lossDecl = this.RULE("lossDecl", () => {
    this.CONSUME(T.Loss);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr, { LABEL: "value" });
    this.OPTION(() => {
      this.CONSUME(T.On);
      this.SUBRULE2(this.expr, { LABEL: "on" });
    });
  });

  /** Output = "output" [ Name "=" ] Expr ; */
  outputDecl = this.RULE("outputDecl", () => {
    this.CONSUME(T.Output);
    // A named output (spec/models.md): `output attention = ...`.
    this.OPTION(() => {
      this.CONSUME(T.AnyName, { LABEL: "name" });
      this.CONSUME(T.Equals);
    });
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  /** Data = "data" Name "{" { Field } "}" ; */
  dataDecl = this.RULE("dataDecl", () => {
    this.CONSUME(T.Data);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.field));
    this.CONSUME(T.RCurly);
  });

  /** Field = Name ":" Expr ; */
  field = this.RULE("field", () => {
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expr, { LABEL: "type" });
  });

  /** Pipeline = "pipeline" Name "{" { Step } "}" ; */
  pipelineDecl = this.RULE("pipelineDecl", () => {
    this.CONSUME(T.Pipeline);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.step));
    this.CONSUME(T.RCurly);
  });

  /** Step = Pretrain | Freeze | Unfreeze | Replace | Adapt | Test ; */
  step = this.RULE("step", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.pretrainStep) },
      { ALT: () => this.SUBRULE(this.freezeStep) },
      { ALT: () => this.SUBRULE(this.unfreezeStep) },
      { ALT: () => this.SUBRULE(this.replaceStep) },
      { ALT: () => this.SUBRULE(this.adaptStep) },
      { ALT: () => this.SUBRULE(this.testStep) },
    ]);
  });

  /** Pretrain = "pretrain" Name "on" Expr [ Map ] ; */
  pretrainStep = this.RULE("pretrainStep", () => {
    this.CONSUME(T.Pretrain);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.On);
    this.SUBRULE(this.expr, { LABEL: "data" });
    this.OPTION(() => this.SUBRULE(this.map, { LABEL: "config" }));
  });

  /** Freeze = "freeze" Target { "," Target } [ Map ] ; */
  freezeStep = this.RULE("freezeStep", () => {
    this.CONSUME(T.Freeze);
    this.SUBRULE(this.layerTarget, { LABEL: "targets" });
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.layerTarget, { LABEL: "targets" });
    });
    this.OPTION(() => this.SUBRULE(this.map, { LABEL: "config" }));
  });

  /** Unfreeze = "unfreeze" Target { "," Target } [ Map ] ; */
  unfreezeStep = this.RULE("unfreezeStep", () => {
    this.CONSUME(T.Unfreeze);
    this.SUBRULE(this.layerTarget, { LABEL: "targets" });
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.layerTarget, { LABEL: "targets" });
    });
    this.OPTION(() => this.SUBRULE(this.map, { LABEL: "config" }));
  });

  /** Target = Name { "." ( Name | Digits ) } [ ".." Digits ] ;  (a part, or layers inside it: spec/paths.md) */
  layerTarget = this.RULE("layerTarget", () => {
    this.CONSUME(T.AnyName, { LABEL: "part" });
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.OR([
        { ALT: () => this.CONSUME2(T.AnyName, { LABEL: "segments" }) },
        { ALT: () => this.CONSUME(T.NumberTok, { LABEL: "segments" }) },
      ]);
    });
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.CONSUME2(T.NumberTok, { LABEL: "to" });
    });
  });

  /** Replace = "replace" Name "with" Expr ; */
  replaceStep = this.RULE("replaceStep", () => {
    this.CONSUME(T.Replace);
    this.CONSUME(T.AnyName, { LABEL: "name" });
    this.CONSUME(T.With);
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  /** Adapt = "adapt" "on" Expr [ Map ] ; */
  adaptStep = this.RULE("adaptStep", () => {
    this.CONSUME(T.Adapt);
    this.CONSUME(T.On);
    this.SUBRULE(this.expr, { LABEL: "data" });
    this.OPTION(() => this.SUBRULE(this.map, { LABEL: "config" }));
  });

  /** Test = "test" "on" Expr [ Map ] ; */
  testStep = this.RULE("testStep", () => {
    this.CONSUME(T.Test);
    this.CONSUME(T.On);
    this.SUBRULE(this.expr, { LABEL: "data" });
    this.OPTION(() => this.SUBRULE(this.map, { LABEL: "config" }));
  });

  /**
   * Expr = Operand { ( "->" | "+" | "-" | "*" | "/" ) Operand } ;
   *
   * The contract's Expr, Sum, Product and Unary levels in one flat rule (a
   * deep CST per atom costs more than the whole parse); the AST builder
   * applies precedence: pipe < `+ -` < `* /`.
   */
  expr = this.RULE("expr", () => {
    this.SUBRULE(this.operand, { LABEL: "operands" });
    this.MANY(() => {
      this.CONSUME(T.BinaryOp, { LABEL: "ops" });
      this.SUBRULE2(this.operand, { LABEL: "operands" });
    });
  });

  /**
   * Operand = { "-" } Primary { Suffix } [ "as" Name ] ;  (the contract's Unary and Postfix; a stage's name)
   * Primary = Number | String | "true" | "false" | Name | List | Map | "(" Expr ")" ;
   *
   * Primary is inlined here for the same reason.
   */
  operand = this.RULE("operand", () => {
    this.MANY(() => this.CONSUME(T.Minus, { LABEL: "minus" }));
    this.OR({
      DEF: [
        { ALT: () => this.CONSUME(T.NumberTok, { LABEL: "number" }) },
        { ALT: () => this.CONSUME(T.StringLiteral, { LABEL: "string" }) },
        { ALT: () => this.CONSUME(T.True, { LABEL: "bool" }) },
        { ALT: () => this.CONSUME(T.False, { LABEL: "bool" }) },
        { GATE: () => !this.startsStatement(), ALT: () => this.CONSUME(T.AnyName, { LABEL: "name" }) },
        { ALT: () => this.SUBRULE(this.list) },
        { ALT: () => this.SUBRULE(this.map) },
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            this.SUBRULE(this.expr, { LABEL: "inner" });
            this.CONSUME(T.RParen);
          },
        },
        // Not syntax: what `nesting.ts` cut out of a bracket nested too deeply.
        { ALT: () => this.CONSUME(T.Elided, { LABEL: "elided" }) },
      ],
      ERR_MSG: "an expression",
    });
    this.MANY2(() => this.SUBRULE(this.suffix, { LABEL: "suffixes" }));
    // `dense(64) as proj`: a name for a pipe stage (spec/paths.md). `as` is not reserved: it
    // names a stage only when a name follows it that does not start a field or an entry.
    this.OPTION({
      GATE: () => this.LA(1).image === "as" && tokenMatcher(this.LA(2), T.AnyName) && this.LA(3).tokenType !== T.Colon,
      DEF: () => {
        this.CONSUME2(T.AnyName, { LABEL: "as" });
        this.CONSUME3(T.AnyName, { LABEL: "alias" });
      },
    });
  });

  /** Suffix = "(" [ Arg { "," Arg } [","] ] ")" | "." ( Name | Digits ) | "[" Expr { "," Expr } "]" ; */
  suffix = this.RULE("suffix", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.OPTION(() => {
            this.SUBRULE(this.arg, { LABEL: "args" });
            this.MANY(() => {
              this.CONSUME(T.Comma);
              this.SUBRULE2(this.arg, { LABEL: "args" });
            });
            this.OPTION2(() => this.CONSUME2(T.Comma));
          });
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Dot);
          // A member's name, or a segment of a layer path: `m.input`, `f.2` (spec/paths.md).
          this.OR2([
            { ALT: () => this.CONSUME(T.AnyName, { LABEL: "name" }) },
            { ALT: () => this.CONSUME(T.NumberTok, { LABEL: "name" }) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.SUBRULE(this.expr, { LABEL: "indices" });
          this.MANY2(() => {
            this.CONSUME3(T.Comma);
            this.SUBRULE2(this.expr, { LABEL: "indices" });
          });
          this.CONSUME(T.RBracket);
        },
      },
    ]);
  });

  /** Arg = [ Name ":" ] Expr ; */
  arg = this.RULE("arg", () => {
    this.OPTION(() => {
      this.CONSUME(T.AnyName, { LABEL: "name" });
      this.CONSUME(T.Colon);
    });
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  /** List = "[" [ Expr { "," Expr } [","] ] "]" ; */
  list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expr, { LABEL: "items" });
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.expr, { LABEL: "items" });
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });

  /** Map = "{" [ Entry { [","] Entry } [","] ] "}" ; */
  map = this.RULE("map", () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.entry, { LABEL: "entries" });
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  /**
   * Entry = Target ":" Expr ;  (a key with a path only in an `lr_scale` table: spec/paths.md; cst-to-ast reports it elsewhere)
   */
  entry = this.RULE("entry", () => {
    this.SUBRULE(this.layerTarget, { LABEL: "key" });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expr, { LABEL: "value" });
  });
}

/** Keywords that, followed by a name and one of these tokens, start a statement. */
const statementStarts = new Map<TokenType, readonly TokenType[]>([
  [T.Encoder, [T.Equals]],
  [T.Bottleneck, [T.Equals]],
  [T.Decoder, [T.Equals]],
  [T.Head, [T.Equals]],
  [T.Part, [T.Equals]],
  [T.Mask, [T.Equals]],
  [T.Let, [T.Equals]],
  [T.Loss, [T.Equals]],
  [T.Views, [T.Comma]],
  [T.Replace, [T.With]],
  [T.Pretrain, [T.On]],
  [T.Model, [T.LCurly]],
  [T.Data, [T.LCurly]],
  [T.Pipeline, [T.LCurly]],
  [T.Block, [T.LParen]],
]);

/** A CST node's children by label: tokens or nodes. */
export type Children = Record<string, (CstNode | IToken)[] | undefined>;
