// nqueens: count the placements of n queens on an n x n board, no two attacking, branching over
// the safe columns of each row in turn (the BOTS / libfork formulation). An irregular tree: the
// fan-out shrinks with depth and varies from node to node, and most branches die early.
//
// A partial board is small and travels by value into each child, so the branches share nothing.
#pragma once

#include <array>

namespace pulse_bench {

inline constexpr int nqueens_n = 12;
inline constexpr long nqueens_expected = 14200;

// board[r] is the column of the queen in row r, for the rows placed so far.
using nqueens_board = std::array<char, nqueens_n>;

// True if a queen at (row, col) is attacked by none of the queens in rows 0 .. row - 1.
inline bool nqueens_safe(const nqueens_board& board, int row, int col) {
  for (int r = 0; r < row; ++r) {
    const int other = board[r];
    if (other == col || other - col == row - r || col - other == row - r) {
      return false;
    }
  }
  return true;
}

}  // namespace pulse_bench
